from layerguard.launch import main

main()
