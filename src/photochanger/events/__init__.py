"""Events: slots, branding, photos that outlive the guest links, the event gallery, export and engagement."""
