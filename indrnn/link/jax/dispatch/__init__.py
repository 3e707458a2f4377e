"""``jax_funcify`` registrations; importing one needs JAX installed."""
