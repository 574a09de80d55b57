"""Google Drive for Drive Index: the Drive and Directory clients, and the sources they read."""
