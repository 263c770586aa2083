"""Tests of 预约: the opening-hours setting, booking and the station's side of it, the slip, the migration."""
