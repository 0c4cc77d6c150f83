"""The Faust app and its agents: join, dedupe, score, alert."""
