"""The board's pages, run by Streamlit's navigation from `streamlit_app.py`."""
