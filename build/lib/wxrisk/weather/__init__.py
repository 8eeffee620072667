"""Weather grids onto road segments: reading grids, sampling weights, derived physics."""
