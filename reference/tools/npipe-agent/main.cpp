// Placeholder: replaced by the agent.
int main() { return 0; }
