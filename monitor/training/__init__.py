"""Building and judging the models: data loaders, trainers and evaluation.

The runtime (`monitor/score/`) never imports this package; the trained weights in
`monitor/score/models/` are the interface between the two (spaCy keeps `spacy/training` apart from
`spacy/pipeline` the same way). Reached through `monitor models train|eval`.
"""
