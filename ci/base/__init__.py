"""The ground floor: processes and the machine's locks, which every layer above may use."""
