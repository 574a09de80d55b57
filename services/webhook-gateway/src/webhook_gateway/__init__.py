"""The webhook gateway: Drive push notifications in, `drive.changed` events out."""
