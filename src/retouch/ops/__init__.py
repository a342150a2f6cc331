"""Pure array functions shared by the tools: resizing, padding, cropping and compositing."""
