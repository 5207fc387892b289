from sandpit.cli import main

raise SystemExit(main())
