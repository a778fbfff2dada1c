"""Full text: read an article page's text for the 📖 button, on a tap."""
