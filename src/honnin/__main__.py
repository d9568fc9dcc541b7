from honnin.cli.main import main

main()
