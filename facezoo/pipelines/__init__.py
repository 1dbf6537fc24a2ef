"""Every facezoo pipeline; importing this module registers them all with `AutoFacePipeline`."""

from facezoo.pipelines.auto import AutoFacePipeline, list_pipelines
from facezoo.pipelines.facefeat import FaceFeatEncoding, FaceFeatPipeline, FaceFeatPipelineOutput
from facezoo.pipelines.pipeline_utils import FacePipeline

__all__ = ["AutoFacePipeline", "FaceFeatEncoding", "FaceFeatPipeline", "FaceFeatPipelineOutput", "FacePipeline", "list_pipelines"]
