"""What the Streamlit risk board needs, without Streamlit: snapshot queries, words, map layers,
province outlines and the officers' action log. The app in `app/` stays UI only."""
