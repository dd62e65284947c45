"""What a guest page of an event photo needs of its event (its branding, its engagement counters), below both
`events` and `guest` so that neither imports the other."""
