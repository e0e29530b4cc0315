"""Predict the sentiment of reviews given as text files or as strings, with a finished run.

python -m apps.sentiment.predict --run_dir runs/sentiment review.txt "A wonderful film."
"""

from shared.commands import app_command

main = app_command("sentiment", "predict", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
