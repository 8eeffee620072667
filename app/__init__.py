"""The Streamlit board (`wxrisk board` runs `streamlit_app.py` of this folder). UI only."""
