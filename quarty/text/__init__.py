"""Text that users write, made into the HTML that pages show."""
