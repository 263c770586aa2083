"""The resident ID card SAM reader (GA 467 frames over a serial line, 115200 8N1).

- `frames`: framing, commands, SW3 statuses and what each means for the person at the kiosk.
- `text_block`: the 256-byte UCS-2 text block of the four card layouts, both directions.
- `backend`: `SamvReader`, the `IdentityReader` over pyserial.
- `wlt`: finds a licensed vendor WLT photo decoder at run time, if one is installed.
"""
