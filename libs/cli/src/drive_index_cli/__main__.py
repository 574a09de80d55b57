"""`python -m drive_index_cli`: the same as `drive-index`."""

from drive_index_cli.cli import main

if __name__ == "__main__":
    main()
