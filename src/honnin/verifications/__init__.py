"""The standalone verification API's flow: send a code to an address, check it."""
