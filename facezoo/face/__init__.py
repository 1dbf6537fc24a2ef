"""The face toolkit every method shares: detection, alignment, paste-back, identity encoders, 3DMM, parsing.

Real photos go through dlib (`DlibFaceDetector`) and similarity alignment (`align_face`, `paste_back`); identity
features come from an `IdentityEncoder` (our `IdentityNet`, an insightface ArcFace ONNX model, or dlib's
descriptor); `Recon3DRegressor` and `FaceParser` are trained on FaceWorld and shipped as named weights.
"""

from facezoo.face.alignment import (
    ARCFACE_TEMPLATE_112,
    AlignedFace,
    align_face,
    face_template,
    invert_affine,
    transform_points,
    umeyama_similarity,
    warp_tensor,
)
from facezoo.face.bfm import LoadedMorphableModel, load_bfm, load_bfm2009, load_bfm2017
from facezoo.face.detection import (
    DlibFaceDetector,
    FaceDetection,
    NoFaceFoundError,
    dlib_model_path,
    five_points_from_68,
)
from facezoo.face.identity import DlibEncoder, IdentityEncoder, IdentityNetEncoder, InsightFaceEncoder
from facezoo.face.identity_net import IdentityNet, IdentityNetOutput
from facezoo.face.mesh_io import load_obj, save_obj
from facezoo.face.parser import FaceParser, FaceParserOutput
from facezoo.face.paste import feathered_mask, paste_back
from facezoo.face.regressor import Recon3DOutput, Recon3DRegressor
