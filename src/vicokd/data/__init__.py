"""Reading MultiSensor-Home style recordings: annotations, decoding, audio features, sampling, Dataset."""
