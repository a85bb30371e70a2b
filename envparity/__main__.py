from envparity.cli import main

main()
