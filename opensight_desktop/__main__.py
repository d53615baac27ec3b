from opensight_desktop.launcher import main

raise SystemExit(main())
