"""One module per provider, each implementing ``providers.base.Provider``."""
