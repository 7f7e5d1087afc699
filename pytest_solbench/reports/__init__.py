"""What a run leaves behind: the terminal table, trace lines, Markdown, HTML, roofline, saved runs."""
