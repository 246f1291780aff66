"""One declarative model per process step of the plant's flow. See `stations.models`."""

from stations.models import MODELS, StationModel, bind_plant

__all__ = ["MODELS", "StationModel", "bind_plant"]
