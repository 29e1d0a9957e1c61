from prepcast._entry import main

raise SystemExit(main())
