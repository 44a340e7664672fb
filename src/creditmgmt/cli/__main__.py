from creditmgmt.cli import main

main()
