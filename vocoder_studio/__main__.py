from vocoder_studio.cli import main

raise SystemExit(main())
