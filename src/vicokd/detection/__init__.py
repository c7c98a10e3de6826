"""Person detection for the visibility masks: YOLO dataset export, YOLOv10 training, batched
inference and mask quality. Nothing here knows Kedro; ultralytics is imported through
:func:`vicokd.detection.env.import_ultralytics`, which keeps it offline and inside ``data/``."""
