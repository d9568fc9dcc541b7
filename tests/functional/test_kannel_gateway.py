"""The Kannel harness, end to end: SMS sent over HTTP through the real gateway, read back
from the test SMSCs, and delivery reports (DLRs) back at a dlr-url — delivered, failed and
refused. Skips when Kannel is not installed (fails with CI=true)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.kannel import DlrReceiver, KannelGateway, require_kannel
from tests.support.smpp import ESME_RINVDSTADR, SmppServer

SENDER = "Honnin"
CODE_TEXT = "認証コード 123456"
MAX_MESSAGES = 3  # the sendsms-user's cap on the parts of one text


@pytest.fixture(scope="module")
def smpp() -> Iterator[SmppServer]:
    require_kannel()
    with SmppServer() as server:
        yield server


@pytest.fixture(scope="module")
def dlrs() -> Iterator[DlrReceiver]:
    with DlrReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def gateway(smpp: SmppServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KannelGateway]:
    """One gateway for the module: it starts in ~0.2 s but takes ~1 s to stop."""
    with KannelGateway(
        tmp_path_factory.mktemp("kannel"), smpp=smpp, max_messages=MAX_MESSAGES
    ) as gateway:
        yield gateway


def send(
    gateway: KannelGateway,
    to: str,
    text: str,
    *,
    smsc: str | None = None,
    dlr_mask: int | None = None,
    dlr_url: str | None = None,
) -> httpx.Response:
    """GET sendsms the way the service will: UCS-2 from UTF-8, every value URL-encoded
    (httpx does it: "+" in `to` becomes %2B, "%d" in `dlr_url` %25d)."""
    params: dict[str, str | int] = {
        "username": gateway.username,
        "password": gateway.password,
        "to": to,
        "text": text,
        "from": SENDER,
        "coding": 2,
        "charset": "UTF-8",
        "max-messages": MAX_MESSAGES,  # not a sendsms variable in Kannel 1.4.5: ignored
    }
    if smsc is not None:
        params["smsc"] = smsc
    if dlr_mask is not None:
        params["dlr-mask"] = dlr_mask
    if dlr_url is not None:
        params["dlr-url"] = dlr_url
    response = httpx.get(gateway.sendsms_base, params=params, timeout=10)
    assert response.status_code == 202, response.text
    assert "Accepted for delivery" in response.text
    return response


def test_a_japanese_text_passes_through_kannel_decoded(gateway: KannelGateway) -> None:
    send(gateway, "+819012345678", CODE_TEXT)

    sms = gateway.wait_for_message("+819012345678")
    assert sms.text == CODE_TEXT
    assert sms.coding == "ucs-2"
    assert sms.sender == SENDER
    assert sms.parts == 1
    code = re.search(r"\d{6}", sms.text)
    assert code is not None
    assert code.group() == "123456"


def test_a_long_text_arrives_whole_as_concatenated_parts(gateway: KannelGateway) -> None:
    text = "認証コードは 654321 です。" + "このコードを他の人に教えないでください。" * 4  # 98 chars
    assert 70 < len(text) <= 2 * 67

    send(gateway, "+819012345679", text)

    sms = gateway.wait_for_message("+819012345679")
    assert sms.text == text  # the parts, joined in order
    assert sms.coding == "ucs-2"
    assert sms.parts == 2  # 67 UCS-2 characters a part, behind a concatenation UDH
    assert [u[:3] for u in sms.udh] == [b"\x05\x00\x03"] * 2
    assert [u[4:] for u in sms.udh] == [b"\x02\x01", b"\x02\x02"]


def test_a_text_past_max_messages_is_cut_without_a_word(gateway: KannelGateway) -> None:
    text = "認" * 250

    send(gateway, "+819012345680", text)  # still "Accepted for delivery"

    sms = gateway.wait_for_message("+819012345680")
    assert sms.parts == MAX_MESSAGES
    assert sms.text == text[: MAX_MESSAGES * 67]


def test_a_7_bit_text_with_newlines_arrives_whole(gateway: KannelGateway) -> None:
    text = "Your code: 123456\n\n@example.com #123456"  # a WebOTP-style text
    url = gateway.sendsms_url(to="+15550100001", text=text, sender=SENDER, coding=0)

    assert httpx.get(url, timeout=10).status_code == 202

    sms = gateway.wait_for_message("+15550100001")
    assert sms.text == text  # fakesmsc got it as three lines: joined back
    assert sms.coding == "text"


def test_a_7_bit_text_reaches_the_smsc_in_gsm_03_38(
    gateway: KannelGateway, smpp: SmppServer
) -> None:
    text = "Code @ 123456 {€5} _"  # @ is 0x00, € and { } are escapes, _ is 0x11 in GSM

    url = gateway.sendsms_url(
        to="+15550100002", text=text, sender=SENDER, coding=0, smsc=gateway.smpp_smsc_id
    )
    assert httpx.get(url, timeout=10).status_code == 202

    message = smpp.wait_for_message("+15550100002")
    assert message.text == text
    assert message.parts[0].data_coding == 0x00
    assert message.parts[0].payload.startswith(b"Code \x00 123456 \x1b\x28")


def test_the_fake_smsc_reports_delivery_at_the_dlr_url(
    gateway: KannelGateway, dlrs: DlrReceiver
) -> None:
    send(gateway, "+819012345681", CODE_TEXT, dlr_mask=31, dlr_url=dlrs.url("fake-ok"))

    accepted = dlrs.wait_for("fake-ok", status=8)
    delivered = dlrs.wait_for("fake-ok", status=1)
    assert accepted.reply == "ACK/"
    assert delivered.reply == ""  # the fake SMSC has no receipt text
    for dlr in (accepted, delivered):
        assert dlr.params["smsc"] == gateway.fake_smsc_id
        assert dlr.params["phone"] == "+819012345681"  # %p: the handset
        assert dlr.params["sender"] == SENDER  # %P: who sent it
    assert delivered.params["smsc_id"]  # the fake SMSC's id for it (a UUID)
    assert gateway.wait_for_message("+819012345681").text == CODE_TEXT


def test_an_undelivered_receipt_from_the_smsc_reaches_the_dlr_url_as_failed(
    gateway: KannelGateway, smpp: SmppServer, dlrs: DlrReceiver
) -> None:
    smpp.outcome_for("+819012345682", stat="UNDELIV", err=1)

    send(
        gateway,
        "+819012345682",
        CODE_TEXT,
        smsc=gateway.smpp_smsc_id,
        dlr_mask=31,
        dlr_url=dlrs.url("smpp-undeliv"),
    )

    message = smpp.wait_for_message("+819012345682")
    assert message.recipient == "819012345682"  # Kannel drops the "+" and sets TON 1
    assert message.parts[0].dest_ton == 1
    assert message.text == CODE_TEXT
    assert message.parts[0].data_coding == 0x08
    (message_id,) = message.message_ids
    assert message_id is not None
    failed = dlrs.wait_for("smpp-undeliv", status=2)
    assert "stat:UNDELIV err:001" in failed.reply  # %A: the receipt's text
    assert failed.reply.startswith(f"id:{int(message_id, 16):010d} ")
    assert failed.params["smsc"] == gateway.smpp_smsc_id
    assert failed.params["smsc_id"] == str(int(message_id, 16))  # %F, as Kannel keyed it
    assert failed.params["meta"].endswith("?smpp?dlr_err=%03%00%01&")  # GSM error 1
    assert dlrs.wait_for("smpp-undeliv", status=8).reply == "ACK/"
    assert smpp.wait_for_receipt("+819012345682").command_status == 0


def test_a_submit_the_smsc_refuses_reaches_the_dlr_url_as_rejected(
    gateway: KannelGateway, smpp: SmppServer, dlrs: DlrReceiver
) -> None:
    smpp.refuse("+819012345683", command_status=ESME_RINVDSTADR)

    send(
        gateway,
        "+819012345683",
        CODE_TEXT,
        smsc=gateway.smpp_smsc_id,
        dlr_mask=31,
        dlr_url=dlrs.url("smpp-refused"),
    )

    rejected = dlrs.wait_for("smpp-refused", status=16)
    assert rejected.reply == "NACK/0x0000000b/Invalid Destination Address"
    assert rejected.params["smsc_id"] == ""
    message = smpp.wait_for_message("+819012345683")
    assert message.refused
    assert message.message_ids == [None]


def test_receipts_with_tlvs_match_with_msg_id_type_3(tmp_path: Path, dlrs: DlrReceiver) -> None:
    require_kannel()
    with SmppServer(receipt_tlvs=True) as smpp, KannelGateway(tmp_path, smpp=smpp) as gateway:
        assert smpp.kannel_msg_id_type == 3
        smpp.outcome_for("+819012345684", stat="REJECTD", err=11)

        send(
            gateway,
            "+819012345684",
            CODE_TEXT,
            smsc=gateway.smpp_smsc_id,
            dlr_mask=3,
            dlr_url=dlrs.url("smpp-tlv"),
        )

        failed = dlrs.wait_for("smpp-tlv", status=2)
        assert "stat:REJECTD err:011" in failed.reply
        assert failed.params["meta"].endswith("?smpp?dlr_err=%03%00%0B&")


def test_a_gateway_whose_smsbox_died_is_started_again(gateway: KannelGateway) -> None:
    """smsbox can panic when a report's server hangs up mid-request (`ensure_running`): the
    next test gets a working gateway, and the crash is kept for the record."""
    gateway._processes["smsbox"].kill()
    gateway._processes["smsbox"].wait(5)
    gateway.ensure_running()
    assert len(gateway.crashes) == 1
    assert "smsbox died" in gateway.crashes[-1]
    send(gateway, "+819012349999", CODE_TEXT)
    assert gateway.wait_for_message("+819012349999").text == CODE_TEXT
    gateway.ensure_running()  # all alive: nothing to do
    assert len(gateway.crashes) == 1
