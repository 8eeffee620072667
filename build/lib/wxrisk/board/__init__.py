"""From risk to action: tiers, stretches, the measures playbook, the dispatch plan and exports."""
