"""Social security cards (社会保障卡) read over PC/SC.

`social_security` holds the card application logic as pure functions over a `transmit` callable, so it is tested
without pcscd; `backend.PcscReader` drives it through pyscard and implements `IdentityReader`.
"""
