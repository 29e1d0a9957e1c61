from prepcast.cli import main

raise SystemExit(main())
