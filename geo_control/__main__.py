from geo_control.cli import main

main()
