"""The Streamlit app: ``Home.py`` (the entry, declares the pages) and app-wide helpers."""
