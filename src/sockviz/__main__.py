from sockviz.cli import main

raise SystemExit(main())
