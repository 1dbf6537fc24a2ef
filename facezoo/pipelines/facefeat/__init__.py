from facezoo.pipelines.facefeat.pipeline_facefeat import FaceFeatEncoding, FaceFeatPipeline, FaceFeatPipelineOutput

__all__ = ["FaceFeatEncoding", "FaceFeatPipeline", "FaceFeatPipelineOutput"]
