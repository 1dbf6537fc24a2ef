"""`python -m spaces`: the hub, same as `python -m spaces.app`."""

from spaces.app import build_hub
from spaces.launch import main

main(build_hub, "facezoo demo hub: every capability in one Gradio app.")
