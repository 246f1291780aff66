from linemon.cli import main

raise SystemExit(main())
