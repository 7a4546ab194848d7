"""Output: logging, the live board, each platform's log, outcomes, the summary and failure hints."""
