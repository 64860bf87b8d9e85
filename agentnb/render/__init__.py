"""How answers, artifacts and checks are shown: notebook outputs, the live stream, the terminal."""
