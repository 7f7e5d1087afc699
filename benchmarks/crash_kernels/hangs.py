"""Never returns."""
DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight):
    while True:
        pass
