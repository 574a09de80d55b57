"""The fetcher: turns Drive changes into doc.fetched events carrying each file's text."""
