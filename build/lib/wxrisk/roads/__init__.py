"""Road network: reading, segmentation into <= 1 km pieces, attributes, incident matching."""
