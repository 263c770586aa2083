import sys

from kiosk_app.cli.main import main

sys.exit(main())
