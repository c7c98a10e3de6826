"""The MultiSensor-Home annotation vocabulary and label rules."""

#: The 16 action classes, in the order of every class axis in the project.
CLASSES: tuple[str, ...] = (
    "AdjustAC", "Clean", "CleanVacuum", "CloseCurtain", "Drink", "Eat", "Enter", "Exit",
    "OpenCurtain", "ReadBook", "Sitdown", "Standup", "TurnOffLamp", "TurnOnLamp", "UseLaptop",
    "UsePhone",
)

#: Frames per second of the sampled frame axis shared by frames, audio chunks, labels and masks.
SAMPLE_FPS: float = 2.5

#: Number of camera views (and microphones) per home.
NUM_VIEWS: int = 5
