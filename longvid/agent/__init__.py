"""The ask agent: tools over a video memory, a budgeted loop, prompts."""
