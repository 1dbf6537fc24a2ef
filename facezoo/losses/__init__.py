
from facezoo.losses.gan import (
    GAN_LOSSES,
    add_spectral_norm,
    discriminator_loss,
    generator_loss,
    r1_penalty,
    requires_grad,
)
