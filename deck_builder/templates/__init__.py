"""The house template (house.pptx) and the script that writes it."""
