"""facezoo's Gradio demo hub: one tab module per capability, composed into one app (``python -m spaces.app``)
or launched alone (``python -m spaces.synthesis`` ...), each deployable as a Hugging Face Space.

Layout: `app` (the hub: layout and wiring only), `tabs/` (one module per capability), `models` (pipelines loaded
lazily, once), `faces` (real photo → aligned crop → result pasted back), `world` (FaceWorld renders), `examples`
(example images written at start-up), `launch` (flags, queue and server settings shared by every app).
"""

import os

# The hub runs offline: gradio must not phone home (it reads this when it is imported and when it launches).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
